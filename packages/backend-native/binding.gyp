{
  "targets": [
    {
      "target_name": "netaug_native",
      "sources": [
        "src/native/addon.cc",
        "src/native/conv.cc",
        "src/native/matmul.cc",
        "src/native/batch_norm.cc",
        "src/native/eltwise.cc",
        "src/native/copy.cc"
      ],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NODE_ADDON_API_DISABLE_DEPRECATED", "NAPI_CPP_EXCEPTIONS"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions", "-fno-rtti"],
      "cflags_cc": ["-std=c++17", "-O3", "-fopenmp", "-fexceptions", "-Wall", "-Wno-unused-parameter"],
      "conditions": [
        ["OS=='linux'", {
          "defines": ["NETAUG_DLOPEN_DNNL"],
          "libraries": ["-ldl"]
        }, {
          "ldflags": ["-fopenmp"],
          "libraries": ["-ldnnl"]
        }],
        ["OS=='mac'", {
          "xcode_settings": {
            "GCC_ENABLE_CPP_EXCEPTIONS": "YES",
            "CLANG_CXX_LANGUAGE_STANDARD": "c++17",
            "OTHER_CPLUSPLUSFLAGS": ["-O3", "-Xpreprocessor", "-fopenmp"]
          },
          "libraries!": ["-lgomp"],
          "libraries": ["-lomp"]
        }]
      ]
    }
  ]
}
