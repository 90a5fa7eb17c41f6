require "fileinto";
fileinto "a"; fileinto "b"; fileinto "c"; fileinto "d";
