/* Placeholder translation unit for the shim static library in meson.build (meson deprecates source-less libraries). */
typedef int lectern_mediasoup_shim_empty;
