// The athena-rx/operators entry point: explicit named exports only.
export {};
