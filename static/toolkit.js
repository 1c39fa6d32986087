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
  }
  setInterval(function () {
    document.querySelectorAll("time[data-seconds-left]").forEach(show);
  }, 1000);
})();
