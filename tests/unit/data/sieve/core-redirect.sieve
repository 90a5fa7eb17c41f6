redirect "other@example.net";
