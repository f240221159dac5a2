// A model manifest as read from a file (ModelManifest::load reads the bytes and calls the same
// two steps): JSON, then ModelManifest::fromJson. Any input is either a manifest or an error
// that says why.

#include "fuzzsupport.h"
#include "models/modelmanifest.h"

#include <QJsonDocument>

using namespace edgelens;

extern "C" int LLVMFuzzerInitialize(int *, char ***)
{
    fuzz::quietQtMessages();
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const QJsonDocument doc = QJsonDocument::fromJson(fuzz::bytes(data, size));
    if (!doc.isObject())
        return 0;
    QString error;
    const std::optional<ModelManifest> manifest = ModelManifest::fromJson(doc.object(), QStringLiteral("fuzz.json"), &error);
    if (!manifest) {
        FUZZ_CHECK(!error.isEmpty(), QByteArray("refused without a reason"));
        return 0;
    }
    FUZZ_CHECK(!manifest->name.isEmpty(), QByteArray("a manifest without a name"));
    (void)manifest->isComplete();
    (void)manifest->missingFiles();
    (void)manifest->summary();
    return 0;
}
