import { defineConfig } from "vite";
import react from "@vitejs/plugin-react";

/**
 * Studio is served by `kodo serve` from `dist/` (apps/server/src/http/studio.ts): hashed files in
 * `assets/` (cached for a year), `index.html` revalidated. `npm run dev` proxies /api to a running
 * kodo (KODO_URL, default http://127.0.0.1:7433).
 */
const kodoUrl = process.env["KODO_URL"] ?? "http://127.0.0.1:7433";

export default defineConfig({
  plugins: [react()],
  base: "/",
  build: {
    outDir: "dist",
    emptyOutDir: true,
    assetsDir: "assets",
    sourcemap: false,
    // the server's CSP allows no inline script: keep Vite's module-preload helper out of index.html
    modulePreload: { polyfill: false },
  },
  server: {
    // kodo checks Host and Origin: present the dev server's requests as the target's own
    proxy: { "/api": { target: kodoUrl, changeOrigin: true, headers: { origin: kodoUrl } } },
  },
});
