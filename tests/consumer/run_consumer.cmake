# Installs the already-built mtlgrad into WORK_DIR/prefix, then configures, builds and runs the
# consumer project against it: the autograd check, then my-mtlgrad (docs/extending.md) with its
# own data set, model, aggregator and optimizer in `list`, `run`, `aggregate` and `optimize`.
# Any failing step or missing output fails the test.
file(REMOVE_RECURSE ${WORK_DIR})
function(run)
  cmake_parse_arguments(R "" "INPUT;OUT" "" ${ARGN})
  if(R_INPUT)
    file(WRITE ${WORK_DIR}/stdin.json "${R_INPUT}")
    execute_process(COMMAND ${R_UNPARSED_ARGUMENTS} INPUT_FILE ${WORK_DIR}/stdin.json
                    RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  else()
    execute_process(COMMAND ${R_UNPARSED_ARGUMENTS} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  endif()
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "failed (${rc}): ${R_UNPARSED_ARGUMENTS}\n${out}\n${err}")
  endif()
  message(STATUS "${out}")
  if(R_OUT)
    set(${R_OUT} "${out}" PARENT_SCOPE)
  endif()
endfunction()
function(expect text what)
  string(FIND "${text}" "${what}" at)
  if(at EQUAL -1)
    message(FATAL_ERROR "expected '${what}' in:\n${text}")
  endif()
endfunction()

run(${CMAKE_COMMAND} --install ${BUILD_DIR} --prefix ${WORK_DIR}/prefix)
run(${CMAKE_COMMAND} -S ${SOURCE_DIR} -B ${WORK_DIR}/build -DCMAKE_PREFIX_PATH=${WORK_DIR}/prefix
    -DCMAKE_BUILD_TYPE=Release)
run(${CMAKE_COMMAND} --build ${WORK_DIR}/build)
run(${WORK_DIR}/build/consumer)

set(my ${WORK_DIR}/build/my-mtlgrad)
# Each addition is listed, with its options, beside the built-in ones.
run(${my} list OUT listed)
foreach(name sines two_head_mlp clipped-sum signsgd pcgrad adam toy2d)
  expect("${listed}" "${name}")
endforeach()
run(${my} list --json OUT listed_json)
expect("${listed_json}" "the largest norm a task gradient keeps")  # clipped-sum's option doc

# A run with all four by name from a config.
run(${my} run ${SOURCE_DIR}/my_run.json --json --out ${WORK_DIR}/run OUT summary)
string(JSON losses LENGTH "${summary}" final_losses)
if(NOT losses EQUAL 2)
  message(FATAL_ERROR "expected 2 final losses in the run's summary:\n${summary}")
endif()
file(READ ${WORK_DIR}/run/config.json config)
foreach(name sines two_head_mlp clipped-sum signsgd)
  expect("${config}" "\"${name}\"")
endforeach()

# The stages on numbers worked by hand, exact in binary (so in the float build too).
function(expect_number got want what)
  if(NOT got MATCHES "^${want}(\\.0*)?$")
    message(FATAL_ERROR "${what}: expected ${want}, got ${got}")
  endif()
endfunction()
# clipped-sum, max_norm 2.5, on g_1 = (3, 4) (norm 5), g_2 = (0, 1): w = (0.5, 1), d = (1.5, 2 + 1).
run(${my} aggregate INPUT [=[{"aggregator": {"name": "clipped-sum", "max_norm": 2.5}, "steps": [[[3, 4], [0, 1]]]}]=]
    OUT agg)
string(JSON d0 GET "${agg}" steps 0 grad 0)
string(JSON d1 GET "${agg}" steps 0 grad 1)
string(JSON w0 GET "${agg}" steps 0 weights 0)
string(JSON w1 GET "${agg}" steps 0 weights 1)
expect_number("${d0}" "1\\.5" "clipped-sum d_0")
expect_number("${d1}" "3" "clipped-sum d_1")
expect_number("${w0}" "0\\.5" "clipped-sum w_0")
expect_number("${w1}" "1" "clipped-sum w_1")
# signsgd, lr 0.5, on θ = (1, 2, 3), g = (0.5, -2, 0): θ = (1 - 0.5, 2 + 0.5, 3).
run(${my} optimize INPUT [=[{"optimizer": {"name": "signsgd", "lr": 0.5}, "params": [1, 2, 3], "grads": [[0.5, -2, 0]]}]=]
    OUT opt)
string(JSON p0 GET "${opt}" params 0 0)
string(JSON p1 GET "${opt}" params 0 1)
string(JSON p2 GET "${opt}" params 0 2)
expect_number("${p0}" "0\\.5" "signsgd theta_0")
expect_number("${p1}" "2\\.5" "signsgd theta_1")
expect_number("${p2}" "3" "signsgd theta_2")
