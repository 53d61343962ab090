# tests/unit/packet.cmake - packet/: decoding frames, reading capture files.
fm_add_unit_test(packet decode LIBS fm_packet)
fm_add_unit_test(packet pcap LIBS fm_packet fm_estimator)
fm_add_unit_test(packet sniff LIBS fm_packet)
