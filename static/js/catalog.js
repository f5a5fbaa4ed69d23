// The catalog's filters start folded on small screens, where they would push the list below
// the fold; without this file the <details> panel is simply open and still folds by hand.
(() => {
  const panel = document.getElementById("catalog-sidebar");
  if (panel && window.matchMedia("(max-width: 760px)").matches) panel.open = false;
})();
