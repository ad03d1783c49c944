// Build and dev-server configuration for the trading dashboard.
//
// `npm run build:dashboard` (from the repository root) writes the bundle to
// examples/trading/web/dist, which the Go demo serves at "/".
// `npx vite --config examples/trading/web/vite.config.js` serves the page with
// hot reload and forwards the realtime endpoints to a demo already running on
// DEMO_URL (default http://127.0.0.1:3000).
import { fileURLToPath } from "node:url";
import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

const root = fileURLToPath(new URL(".", import.meta.url));
const demo = process.env.DEMO_URL || "http://127.0.0.1:3000";

export default defineConfig({
  root,
  base: "/",
  plugins: [react()],
  build: {
    outDir: "dist",
    emptyOutDir: true,
    target: "es2022",
    sourcemap: false,
    assetsInlineLimit: 0,
  },
  server: {
    host: "127.0.0.1",
    proxy: {
      "/socket.io": { target: demo, ws: true },
      "/api": { target: demo },
    },
  },
});
