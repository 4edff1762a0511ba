// The end-to-end suite (`npm run e2e`): real services, the real app, Debian's Chromium.
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["e2e/**/*.e2e.ts"],
    globalSetup: ["e2e/global-setup.ts"],
    environment: "node",
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // One browser at a time: two cores.
    fileParallelism: false,
  },
});
