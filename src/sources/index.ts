// The athena-rx/sources entry point: explicit named exports only.
export {};
