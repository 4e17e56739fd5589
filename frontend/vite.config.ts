import react from "@vitejs/plugin-react";
import { defineConfig } from "vitest/config";

// Built files are served by Django (whitenoise) under /static/; index.html by a Django view at
// every app path. `npm run dev` proxies the API to a Django on :8000 for live editing.
export default defineConfig(({ command }) => ({
  // Built asset URLs live under Django's STATIC_URL; the dev server serves the app at /.
  base: command === "build" ? "/static/" : "/",
  plugins: [react()],
  build: {
    outDir: "dist",
    emptyOutDir: true,
    sourcemap: false,
    target: "es2022",
  },
  server: {
    proxy: {
      "/api": "http://127.0.0.1:8000",
      "/admin": "http://127.0.0.1:8000",
      "/static/admin": "http://127.0.0.1:8000",
    },
  },
  test: {
    include: ["src/**/*.test.ts"],
    environment: "node",
  },
}));
