// The agent's version: one constant that `azcmagent --version`, `version` and `show` print.
// Kept equal to package.json's version (a test checks), so a release changes both together.
export const VERSION = '0.1.0';
