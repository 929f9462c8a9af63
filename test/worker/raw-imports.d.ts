// Vite's `?raw` imports (a file's text as a string): lets workerd tests share case files with Node tests.
declare module "*?raw" {
  const text: string;
  export default text;
}
