// The athena-rx/nest entry point: explicit named exports only.
export {};
