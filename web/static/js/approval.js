// The waiting page of a push approval: asks the server every 2 seconds where the request
// stands, and reloads the page (which then signs in, or says why not) once it is answered.
// Without JavaScript the page refreshes itself (the Refresh header) to the same effect.
(function () {
  "use strict";
  var status = document.getElementById("approval-status");
  if (!status) {
    return;
  }
  function poll() {
    fetch("/login/approval", { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (res) { return res.ok ? res.json() : { status: "expired" }; })
      .then(function (body) {
        if (body.status === "pending") {
          setTimeout(poll, 2000);
        } else {
          status.textContent = body.status === "approved" ? "Approved. Signing you in…" : "The request was answered.";
          window.location.replace("/login/approval");
        }
      })
      .catch(function () { setTimeout(poll, 4000); });
  }
  setTimeout(poll, 2000);
})();
