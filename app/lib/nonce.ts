import { createContext, useContext } from "react";

/**
 * The CSP nonce of the page being rendered on the server (entry.server.tsx provides it). In the browser it is
 * "": the nonced scripts have already run, and browsers hide the attribute from scripts anyway.
 */
const NonceContext = createContext("");
export const NonceProvider = NonceContext.Provider;
export const useNonce = () => useContext(NonceContext);
