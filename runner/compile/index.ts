export { HandlerCompiler, type CompiledHandler, type CompilerOptions } from "./handler-compiler.js";
