# check_quick_json.cmake - ctest's smoke test of gradtape-bench (no timing is judged):
#   cmake -DBENCH=path/to/gradtape-bench -P check_quick_json.cmake
# `--quick --json` must exit 0 and print only JSON objects, one per line: the environment,
# a forward, train_step and inference cell for each model and an hvp cell for the MLP (LeNet-5's
# needs conv2d's and the pools' backwards written with ops) with positive times, and the
# memory. A bad option must fail with a message, not crash.
cmake_minimum_required(VERSION 3.19) # string(JSON)

execute_process(COMMAND ${BENCH} --quick --json RESULT_VARIABLE rc OUTPUT_VARIABLE out
                ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "gradtape-bench --quick --json exited with ${rc}: ${err}")
endif()

string(REGEX REPLACE "\n$" "" out "${out}")
string(REPLACE ";" "\\;" out "${out}")
string(REPLACE "\n" ";" lines "${out}")
set(seen "")
foreach(line IN LISTS lines)
  string(JSON type ERROR_VARIABLE json_error GET "${line}" type)
  if(json_error)
    message(FATAL_ERROR "not a JSON object with a type: '${line}': ${json_error}")
  endif()
  if(type MATCHES "^(forward|train_step|inference|hvp)$")
    string(JSON model GET "${line}" model)
    foreach(key median_us images_per_s gflops)
      string(JSON value GET "${line}" ${key})
      if(NOT value GREATER 0)
        message(FATAL_ERROR "${key} is not positive in '${line}'")
      endif()
    endforeach()
    list(APPEND seen "${type}:${model}")
  elseif(type STREQUAL "memory")
    string(JSON rss GET "${line}" peak_rss_kib)
    if(NOT rss GREATER 0)
      message(FATAL_ERROR "peak_rss_kib is not positive in '${line}'")
    endif()
    list(APPEND seen memory)
  elseif(type STREQUAL "env")
    string(JSON convention GET "${line}" flop_convention)
    list(APPEND seen env)
  else()
    message(FATAL_ERROR "unknown record type '${type}' in '${line}'")
  endif()
endforeach()
foreach(want env memory forward:mlp train_step:mlp inference:mlp hvp:mlp forward:lenet
             train_step:lenet inference:lenet)
  if(NOT want IN_LIST seen)
    message(FATAL_ERROR "no '${want}' record in the output:\n${out}")
  endif()
endforeach()

execute_process(COMMAND ${BENCH} --batches 0 RESULT_VARIABLE rc OUTPUT_VARIABLE out
                ERROR_VARIABLE err)
if(NOT rc EQUAL 2 OR NOT err MATCHES "--batches expects an integer")
  message(FATAL_ERROR "a bad option should exit 2 with a message; got ${rc}: ${err}")
endif()
message(STATUS "gradtape-bench --quick --json: every record valid")
