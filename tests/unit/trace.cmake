# tests/unit/trace.cmake - trace/: the JSON trace codec, traces to pcap and back, validation,
# reading a file of either kind.
fm_add_unit_test(trace json LIBS fm_trace)
fm_add_unit_test(trace pcap LIBS fm_trace)
fm_add_unit_test(trace validate LIBS fm_trace)
fm_add_unit_test(trace input LIBS fm_trace)
