// Card top-ups on the wallet page (billing/templates/billing/wallet.html) with Stripe.js.
// Kept out of the page so the Content-Security-Policy can forbid inline scripts.
(function () {
  const form = document.getElementById("topup-form");
  if (!form) return;
  const stripe = Stripe(form.dataset.publishableKey);
  const card = stripe.elements().create("card");
  card.mount("#card-element");
  const say = (text) => { document.getElementById("topup-message").textContent = text; };
  const csrf = form.querySelector("[name=csrfmiddlewaretoken]").value;
  async function post(url, data) {
    const response = await fetch(url, {method: "POST", credentials: "same-origin",
      headers: {"X-CSRFToken": csrf}, body: new URLSearchParams(data)});
    const body = await response.json();
    if (!response.ok) { throw new Error((body.error && body.error.message) || "Request failed"); }
    return body;
  }
  async function waitForCredit(topUpId) {
    for (let i = 0; i < 60; i++) {
      const response = await fetch(form.dataset.walletUrl + "top-ups/" + topUpId + "/status/",
        {credentials: "same-origin"});
      const body = await response.json();
      if (body.status === "succeeded") { window.location.reload(); return; }
      if (body.status === "failed") { say("Payment failed: " + body.failure); return; }
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
    say("Payment received; the credit will appear when Stripe confirms it.");
  }
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    document.getElementById("topup-submit").disabled = true;
    try {
      say("Saving card…");
      const setup = await post(form.dataset.cardSetupUrl, {});
      const saved = await stripe.confirmCardSetup(setup.client_secret, {payment_method: {card: card}});
      if (saved.error) { throw new Error(saved.error.message || "The card was not accepted."); }
      const paymentMethod = saved.setupIntent.payment_method;
      document.getElementById("auto-payment-method").value = paymentMethod;
      say("Paying…");
      const topUp = await post(form.getAttribute("action"),
        {amount: document.getElementById("topup-amount").value, payment_method: paymentMethod});
      if (topUp.failure) { throw new Error(topUp.failure); }
      if (topUp.status === "requires_action" || topUp.status === "requires_confirmation") {
        const confirmed = await stripe.confirmCardPayment(topUp.client_secret);
        if (confirmed.error) { throw new Error(confirmed.error.message || "Authentication failed."); }
      }
      say("Payment submitted; waiting for Stripe to confirm…");
      await waitForCredit(topUp.top_up_id);
    } catch (error) {
      say(error.message);
    } finally {
      document.getElementById("topup-submit").disabled = false;
    }
  });
})();
