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

// Nothing waits in the client and no device has a request out: no answer, late or not, can
// still arrive and be reported (what "a late duplicate would show up by now" means as a state).
bool nothingInFlight(const DetectionClient &client);

} // namespace edgelens::test
