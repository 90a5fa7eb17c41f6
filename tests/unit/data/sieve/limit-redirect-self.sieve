redirect "ann@example.com";
