require "vacation";
vacation :addresses ["alias@example.com"] "away";
