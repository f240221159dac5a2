// ImageProbe reads the size of JPEG, PNG, BMP, WebP and TIFF images from their headers, before
// any decoder runs: it sees every byte a client sends, so it must never read past them, loop
// or claim a size it did not read. A probe of a truncated copy never claims more than the
// whole image does.

#include "fuzzsupport.h"
#include "net/imageprobe.h"

using namespace edgelens;

extern "C" int LLVMFuzzerInitialize(int *, char ***)
{
    fuzz::quietQtMessages();
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    // Exactly the given bytes, in a buffer of their own: AddressSanitizer sees any over-read.
    const QByteArray encoded = fuzz::bytes(data, size);
    const ImageInfo info = ImageProbe::probe(encoded);
    if (info.isValid()) {
        FUZZ_CHECK(info.pixels() > 0, info.format.toUtf8());
    } else {
        FUZZ_CHECK(!info.error.isEmpty(), QByteArray("no size and no reason"));
    }
    return 0;
}
