// A changed plugin has other options: reload the page with that plugin's fields
// (?provider=...), carrying what was typed in the main form. Secrets stay out of the URL,
// and so do the inline rows (their names have a "-").
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  const select = document.querySelector("select[data-plugin-select]");
  if (!select) {
    return;
  }
  select.addEventListener("change", function () {
    const params = new URLSearchParams();
    for (const element of select.form.elements) {
      const name = element.name;
      if (!name || name === select.name || name.includes("-") || name.startsWith("credential__")) {
        continue;
      }
      if (["password", "hidden", "file", "submit", "button"].includes(element.type)) {
        continue;
      }
      if (element.type === "checkbox") {
        params.set(name, element.checked ? "on" : "");
      } else {
        params.set(name, element.value);
      }
    }
    params.set(select.name, select.value);
    window.location.search = params.toString();
  });
});
