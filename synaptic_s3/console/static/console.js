// synaptic-s3 console: the little script there is (served from the console, no CDN).
// Pages work without it; it adds "expand all / collapse all" to state trees.
"use strict";
document.addEventListener("click", (event) => {
  const button = event.target.closest("button[data-tree]");
  if (!button) return;
  const open = button.dataset.tree === "open";
  const section = button.closest("section") || document;
  for (const node of section.querySelectorAll(".tree details")) node.open = open;
});
