// The athena-rx/transport entry point: explicit named exports only.
export {};
