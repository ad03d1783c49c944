import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import App from "./App.jsx";
import { readConnectionParams } from "./config.js";
import "./styles.css";

const { token, transports } = readConnectionParams(window.location.search);

createRoot(document.getElementById("root")).render(
  <StrictMode>
    <App token={token} transports={transports} />
  </StrictMode>,
);
