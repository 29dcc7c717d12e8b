# Build recipe for the native addon: build/Release/bigproc.node from every native/*.cc (listed by the
# command below, so a new kernel file needs no line here; each one registers its own exports).
# Portable: no -march=native; hot kernels pick AVX-512F / AVX2 / baseline at run time (target_clones).
# -ffp-contract=off is required: results must match the JavaScript reference bit for bit.
# -fno-math-errno: no kernel reads errno after a math call; with it GCC vectorizes sqrt (image sobel).
# NODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS: when a worker thread is torn down (process.exit, Ctrl-C)
# inside a Mapping method, node-addon-api cannot throw the resulting error into JavaScript; without
# this it rethrows in C++ from a C callback and the whole process aborts (~2% of interrupted runs).
{
  "targets": [
    {
      "target_name": "bigproc",
      "sources": [
        "<!@(node -p \"require('fs').readdirSync('native').filter((f) => f.endsWith('.cc')).sort().map((f) => 'native/' + f).join(' ')\")"
      ],
      "include_dirs": [
        "<!(node -p \"require('node-addon-api').include_dir\")"
      ],
      "defines": [
        "NAPI_VERSION=8",
        "NODE_ADDON_API_DISABLE_DEPRECATED",
        "NAPI_CPP_EXCEPTIONS",
        "NODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS"
      ],
      "cflags!": [ "-fno-exceptions", "-O2" ],
      "cflags_cc!": [ "-fno-exceptions", "-std=gnu++17", "-O2" ],
      "cflags": [ "-O3", "-ffp-contract=off", "-fno-fast-math", "-fno-math-errno" ],
      "cflags_cc": [ "-std=c++17", "-fexceptions", "-O3", "-ffp-contract=off", "-fno-fast-math", "-fno-math-errno" ],
      "conditions": [
        [ "OS=='mac'", {
          "xcode_settings": {
            "GCC_ENABLE_CPP_EXCEPTIONS": "YES",
            "CLANG_CXX_LANGUAGE_STANDARD": "c++17",
            "CLANG_CXX_LIBRARY": "libc++",
            "MACOSX_DEPLOYMENT_TARGET": "10.15",
            "GCC_OPTIMIZATION_LEVEL": "3",
            "OTHER_CFLAGS": [ "-ffp-contract=off" ]
          }
        } ]
      ]
    }
  ]
}
