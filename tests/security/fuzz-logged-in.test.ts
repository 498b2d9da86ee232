// Every mounted route fuzzed as a logged-in user with a draft of their own (fuzz-suite.ts).
import { describeFuzz } from "./fuzz-suite.ts";

describeFuzz("logged in", 0x19_2026 + 1, 1_500);
