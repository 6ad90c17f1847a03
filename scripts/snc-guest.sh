#!/bin/sh
# Guest payload: snc-touch with the arguments in ./snc-args (TAP).
echo always >/sys/kernel/mm/transparent_hugepage/enabled 2>/dev/null
./snc-touch $(cat snc-args 2>/dev/null)
