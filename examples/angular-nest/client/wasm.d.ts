/** The application's bundler emits each imported `.wasm` file and gives its URL. */
declare module '*.wasm' {
  const url: string;
  export default url;
}
