// Follow the room when the facilitator moves on, unless this person is halfway through
// typing something: then the banner the server sent stays, and they go when ready.
document.addEventListener("room-moved", function () {
  var fields = document.querySelectorAll("main input, main textarea");
  var typing = Array.prototype.some.call(fields, function (field) {
    return field.type !== "hidden" && field.value !== field.defaultValue;
  });
  if (!typing) {
    window.location.reload();
  }
});

// Count down every step timer on the page between the server's updates.
(function () {
  function show(element) {
    if (!element.dataset.endsAt) {
      element.dataset.endsAt = String(Date.now() + Number(element.dataset.secondsLeft) * 1000);
    }
    var left = Math.max(0, Math.round((Number(element.dataset.endsAt) - Date.now()) / 1000));
    var seconds = left % 60;
    element.textContent = Math.floor(left / 60) + ":" + (seconds < 10 ? "0" : "") + seconds;
    element.classList.toggle("expired", left === 0);
  }
  setInterval(function () {
    document.querySelectorAll("time[data-seconds-left]").forEach(show);
  }, 1000);
})();

// Say so when a request cannot reach the server (venue wifi), and clear it once one does.
(function () {
  var shown = null;
  document.addEventListener("htmx:sendError", function () {
    var messages = document.getElementById("messages");
    if (!messages || shown) { return; }
    shown = document.createElement("p");
    shown.className = "message error";
    shown.textContent = document.body.dataset.offlineMessage;
    messages.appendChild(shown);
  });
  document.addEventListener("htmx:afterRequest", function (event) {
    if (shown && event.detail.xhr && event.detail.xhr.status > 0) {
      shown.remove();
      shown = null;
    }
  });
})();

// A swap must not close what someone opened: remember open <details> and open them again.
(function () {
  var open = [];
  document.addEventListener("htmx:beforeSwap", function () {
    open = Array.prototype.map.call(document.querySelectorAll("details[open][id]"), function (d) { return d.id; });
  });
  document.addEventListener("htmx:afterSettle", function () {
    open.forEach(function (id) {
      var details = document.getElementById(id);
      if (details) { details.open = true; }
    });
  });
})();
