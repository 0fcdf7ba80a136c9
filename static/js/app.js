// Our only script: small progressive enhancements on top of server-rendered pages and htmx.
document.addEventListener("htmx:responseError", (event) => {
  const box = document.getElementById("htmx-error");
  if (box) {
    box.hidden = false;
    box.textContent = "That did not save: the server answered " + event.detail.xhr.status + ". Your input is still on the page.";
  }
});

// A new engagement starts in the site's time zone; offer the browser's when it differs.
document.addEventListener("DOMContentLoaded", () => {
  const select = document.querySelector("select[data-offer-browser-timezone]");
  const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  if (!select || !zone || select.value === zone) return;
  if (![...select.options].some((option) => option.value === zone)) return;
  const button = document.createElement("button");
  button.type = "button";
  button.className = "link-button";
  button.textContent = "Use this browser's time zone (" + zone + ")";
  button.addEventListener("click", () => {
    select.value = zone;
    button.remove();
  });
  select.insertAdjacentElement("afterend", button);
});

// A form that undoes something (removing a person) asks first, in the words of data-confirm.
document.addEventListener("submit", (event) => {
  const question = event.target.dataset ? event.target.dataset.confirm : undefined;
  if (question && !window.confirm(question)) event.preventDefault();
});
