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
