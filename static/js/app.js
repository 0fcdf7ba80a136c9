// Our only script: small progressive enhancements on top of server-rendered pages and htmx.
document.addEventListener("htmx:responseError", (event) => {
  const box = document.getElementById("htmx-error");
  if (box) {
    box.hidden = false;
    box.textContent = "That did not save: the server answered " + event.detail.xhr.status + ". Your input is still on the page.";
  }
});
