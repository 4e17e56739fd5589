import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
// Stylesheets in cascade order: the base, then each concern (a later file wins ties).
import "./styles.css";
import "./annotate/annotate.css";
import "./markdown/markdown.css";
import "./annotate/ranking.css";
import "./shared/dialog.css";
import "./markdown/highlight.css";
import { App } from "./App";

createRoot(document.getElementById("root")!).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
