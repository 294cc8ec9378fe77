/** `.wasm` imports in page code: esbuild's `file` loader makes them the URL of the emitted file. */
declare module '*.wasm' {
  const url: string;
  export default url;
}
