// The measurements (`npm run measure`, from `make bench`): the same system as the end-to-end
// suite, numbers printed rather than asserted.
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["e2e/**/*.measure.ts"],
    globalSetup: ["e2e/global-setup.ts"],
    environment: "node",
    testTimeout: 300_000,
    hookTimeout: 120_000,
  },
});
