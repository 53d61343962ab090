# tests/unit/transceiver.cmake - transceiver/: packets, the model source, sinks, the deadline
# timer and the send loop on a fake clock, the receive statistics engine, replay as calls.
fm_add_unit_test(transceiver packet LIBS fm_transceiver)
fm_add_unit_test(transceiver source LIBS fm_transceiver)
fm_add_unit_test(transceiver sink LIBS fm_transceiver)
fm_add_unit_test(transceiver timer LIBS fm_transceiver)
fm_add_unit_test(transceiver sender LIBS fm_transceiver)
fm_add_unit_test(transceiver rstats LIBS fm_transceiver)
fm_add_unit_test(transceiver replay LIBS fm_transceiver)
