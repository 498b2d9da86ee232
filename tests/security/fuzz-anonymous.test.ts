// Every mounted route fuzzed without a session (fuzz-suite.ts).
import { describeFuzz } from "./fuzz-suite.ts";

describeFuzz("anonymous", 0x19_2026, 1_500);
