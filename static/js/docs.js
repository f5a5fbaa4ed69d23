// The /docs pages: a "Copy" button on every code example.
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  for (const pre of document.querySelectorAll(".docs-article pre")) {
    const button = document.createElement("button");
    button.type = "button";
    button.className = "copy-code small";
    button.textContent = "Copy";
    button.setAttribute("aria-label", "Copy this example");
    button.addEventListener("click", async () => {
      try {
        await navigator.clipboard.writeText(pre.querySelector("code").innerText);
        button.textContent = "Copied";
      } catch {
        button.textContent = "Press Ctrl+C";
        const range = document.createRange();
        range.selectNodeContents(pre.querySelector("code"));
        const selection = window.getSelection();
        selection.removeAllRanges();
        selection.addRange(range);
      }
      setTimeout(() => { button.textContent = "Copy"; }, 2000);
    });
    pre.appendChild(button);
  }
});
