// The athena-rx/testing entry point: explicit named exports only.
export {};
