require "fileinto";
if header :contains "x-missing" "" { fileinto "never"; }
if header :contains "subject" "" { fileinto "exists-empty-key"; }
if header :is "x-empty" "" { fileinto "empty-value"; }
