# Installation layout and the Debian package (CPack DEB).
#   cmake --install build [--prefix /usr]     binary, emulator, example config, systemd unit
#   cpack --config build/CPackConfig.cmake    build/tcia-bridge_<version>_<arch>.deb
# The .deb's runtime dependencies come from dpkg-shlibdeps (the exact Debian libraries linked).
# The default prefix is /usr, as for a Debian package: the configuration then goes to
# /etc/tcia-bridge and the unit to /lib/systemd/system. Stage with DESTDIR=... cmake --install.
# (Also a build tree configured before this file existed still holds CMake's /usr/local.)
if(CMAKE_INSTALL_PREFIX_INITIALIZED_TO_DEFAULT OR CMAKE_INSTALL_PREFIX STREQUAL "/usr/local")
  set(CMAKE_INSTALL_PREFIX /usr CACHE PATH "Install prefix" FORCE)
endif()
set(CMAKE_INSTALL_DOCDIR share/doc/tcia-bridge CACHE PATH "Documentation directory")
include(GNUInstallDirs)

install(TARGETS tcia-bridge RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
# The offline TCIA stand-in: the container image's demo and operators' dry runs use it.
install(TARGETS tcia-emulator RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})

# GNUInstallDirs: SYSCONFDIR is /etc for the prefix /usr, <prefix>/etc otherwise.
if(CMAKE_INSTALL_PREFIX STREQUAL "/usr")
  set(BRIDGE_UNITDIR /lib/systemd/system)
else()
  set(BRIDGE_UNITDIR lib/systemd/system)
endif()
install(FILES packaging/tcia-bridge.json DESTINATION ${CMAKE_INSTALL_FULL_SYSCONFDIR}/tcia-bridge)
install(FILES packaging/tcia-bridge.service DESTINATION ${BRIDGE_UNITDIR})
install(FILES README.md conf/tcia-bridge.example.json conf/emulator.json
        DESTINATION ${CMAKE_INSTALL_DOCDIR})
install(DIRECTORY docs/ DESTINATION ${CMAKE_INSTALL_DOCDIR}/docs OPTIONAL)

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME tcia-bridge)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "tcia-bridge maintainers <tcia-bridge@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "The Cancer Imaging Archive as a DICOM node: DIMSE Q/R SCP and DICOMweb server")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_PACKAGE_SECTION science)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "passwd, procps, ca-certificates")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${CMAKE_SOURCE_DIR}/packaging/debian/postinst
    ${CMAKE_SOURCE_DIR}/packaging/debian/prerm
    ${CMAKE_SOURCE_DIR}/packaging/debian/postrm
    # conffiles: dpkg keeps an administrator's edits of /etc/tcia-bridge on upgrade.
    ${CMAKE_SOURCE_DIR}/packaging/debian/conffiles)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
include(CPack)
