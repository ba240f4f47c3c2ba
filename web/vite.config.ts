// The dashboard's build: Vite bundles src/ into dist/ (hashed files under dist/assets/), which
// `suanpan server` serves. No CDN: every script, style and font is in dist/.
import { defineConfig } from "vite";

export default defineConfig({
  base: "/",
  build: { outDir: "dist", emptyOutDir: true, sourcemap: false, chunkSizeWarningLimit: 600 },
  server: { proxy: { "/v1": "http://127.0.0.1:7070" } },
});
