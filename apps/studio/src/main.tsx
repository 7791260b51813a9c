import { createRoot } from "react-dom/client";
import { App } from "./app.js";
import { takeToken } from "./api/token.js";
import "./styles.css";

// first thing: the token leaves the address bar before anything else can read or log the URL
const token = takeToken();
const root = document.getElementById("root");
if (root !== null) createRoot(root).render(<App initialToken={token} />);
