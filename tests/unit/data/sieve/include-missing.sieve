require "include";
include "missing";
