#pragma once

// Everything a DetectionClient reported, per request id. A second report for the same id is
// counted in `duplicates`: a client must settle each request exactly once.

#include "client/detectionclient.h"

#include <QHash>

namespace edgelens::test {

class ClientOutcomes final
{
    Q_DISABLE_COPY_MOVE(ClientOutcomes)

public:
    explicit ClientOutcomes(DetectionClient &client);

    int finished() const { return int(results.size() + failures.size()); }

    QHash<quint64, ClientResult> results;
    QHash<quint64, QString> failures;
    QHash<quint64, bool> failureRetryable;
    int duplicates = 0;

private:
    void countIfSettled(quint64 id);
};

} // namespace edgelens::test
