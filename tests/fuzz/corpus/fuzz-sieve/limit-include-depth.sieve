require "include";
include "deep1";
