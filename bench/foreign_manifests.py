"""Realistic foreign manifests for the validate bench: what a platform team's repo or a rendered
Helm chart holds (Deployments, Services, ConfigMaps with config files, Secrets, Ingresses,
StatefulSets, CronJobs, RBAC, HPAs, PDBs, NetworkPolicies), one multi-document file per app,
written as people write them: comments, quoted and block scalars, flow lists, octal modes.
Deterministic for a given count. Used by bench/bench_validate.py only.
"""

from __future__ import annotations

from pathlib import Path

APP_HEAD = """\
# Source: {app}/templates/all.yaml
# Rendered for the {team} team; do not edit by hand.
"""

DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {app}
  namespace: {ns}
  labels:
    app.kubernetes.io/name: {app}
    app.kubernetes.io/instance: {app}-prod
    app.kubernetes.io/version: "{version}"
    app.kubernetes.io/managed-by: Helm
  annotations:
    deployment.kubernetes.io/revision: "{revision}"
    description: Serves the {app} API for the {team} team
spec:
  replicas: {replicas}
  revisionHistoryLimit: 5
  selector:
    matchLabels:
      app.kubernetes.io/name: {app}
      app.kubernetes.io/instance: {app}-prod
  strategy:
    type: RollingUpdate
    rollingUpdate:
      maxSurge: 25%
      maxUnavailable: 0
  template:
    metadata:
      labels:
        app.kubernetes.io/name: {app}
        app.kubernetes.io/instance: {app}-prod
      annotations:
        prometheus.io/scrape: "true"
        prometheus.io/port: "9090"
    spec:
      serviceAccountName: {app}
      securityContext:
        runAsNonRoot: true
        runAsUser: 10001
        fsGroup: 10001
      containers:
        - name: {app}
          image: registry.example.com/{team}/{app}:{version}
          imagePullPolicy: IfNotPresent
          args: ["--port=8080", "--metrics-port=9090", "--log-format=json"]
          ports:
            - name: http
              containerPort: 8080
              protocol: TCP
            - name: metrics
              containerPort: 9090
          env:
            - name: LOG_LEVEL
              value: info
            - name: DATABASE_URL
              valueFrom:
                secretKeyRef:
                  name: {app}-db
                  key: url
            - name: FEATURE_FLAGS
              valueFrom:
                configMapKeyRef:
                  name: {app}-config
                  key: flags
          resources:
            requests:
              cpu: {cpu}m
              memory: {memory}Mi
            limits:
              cpu: "{cpu_limit}"
              memory: {memory}Mi
          readinessProbe:
            httpGet:
              path: /ready
              port: http
            periodSeconds: 5
          livenessProbe:
            httpGet:
              path: /healthz
              port: http
            initialDelaySeconds: 30
            periodSeconds: 10
          securityContext:
            allowPrivilegeEscalation: false
            readOnlyRootFilesystem: true
            capabilities:
              drop: [ALL]
          volumeMounts:
            - name: config
              mountPath: /etc/{app}
              readOnly: true
            - name: tmp
              mountPath: /tmp
      volumes:
        - name: config
          configMap:
            name: {app}-config
            defaultMode: {mode}
        - name: tmp
          emptyDir: {{}}
"""

SERVICE = """\
apiVersion: v1
kind: Service
metadata:
  name: {app}
  namespace: {ns}
  labels:
    app.kubernetes.io/name: {app}
spec:
  type: ClusterIP
  selector:
    app.kubernetes.io/name: {app}
    app.kubernetes.io/instance: {app}-prod
  ports:
    - name: http
      port: 80
      targetPort: http
    - name: metrics
      port: 9090
      targetPort: metrics
"""

CONFIGMAP = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: {app}-config
  namespace: {ns}
data:
  flags: "search-v2,checkout-redesign"
  app.properties: |
    server.port=8080
    server.shutdown=graceful
    cache.ttl.seconds=300
    upstream.url=http://{team}-gateway.{ns}.svc.cluster.local:80
  logging.json: '{{"level": "info", "format": "json"}}'
"""

SECRET = """\
apiVersion: v1
kind: Secret
metadata:
  name: {app}-db
  namespace: {ns}
type: Opaque
stringData:
  url: postgres://{app}@db.{ns}.svc:5432/{app}
"""

SERVICE_ACCOUNT = """\
apiVersion: v1
kind: ServiceAccount
metadata:
  name: {app}
  namespace: {ns}
automountServiceAccountToken: false
"""

HPA = """\
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: {app}
  namespace: {ns}
spec:
  scaleTargetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: {app}
  minReplicas: {replicas}
  maxReplicas: {max_replicas}
  metrics:
    - type: Resource
      resource:
        name: cpu
        target:
          type: Utilization
          averageUtilization: 70
"""

PDB = """\
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: {app}
  namespace: {ns}
spec:
  maxUnavailable: 1
  selector:
    matchLabels:
      app.kubernetes.io/name: {app}
"""

INGRESS = """\
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: {app}
  namespace: {ns}
  annotations:
    cert-manager.io/cluster-issuer: letsencrypt
spec:
  ingressClassName: nginx
  tls:
    - hosts: [{app}.{team}.example.com]
      secretName: {app}-tls
  rules:
    - host: {app}.{team}.example.com
      http:
        paths:
          - path: /
            pathType: Prefix
            backend:
              service:
                name: {app}
                port:
                  name: http
"""

NETWORK_POLICY = """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: {app}-ingress
  namespace: {ns}
spec:
  podSelector:
    matchLabels:
      app.kubernetes.io/name: {app}
  policyTypes:
    - Ingress
  ingress:
    - from:
        - namespaceSelector:
            matchLabels:
              kubernetes.io/metadata.name: ingress-nginx
      ports:
        - port: 8080
          protocol: TCP
"""

ROLE = """\
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata:
  name: {app}-reader
  namespace: {ns}
rules:
  - apiGroups: [""]
    resources: [configmaps, secrets]
    verbs: [get, list, watch]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: {app}-reader
  namespace: {ns}
subjects:
  - kind: ServiceAccount
    name: {app}
    namespace: {ns}
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: Role
  name: {app}-reader
"""

STATEFULSET = """\
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: {app}-cache
  namespace: {ns}
spec:
  serviceName: {app}-cache
  replicas: 3
  selector:
    matchLabels:
      app.kubernetes.io/name: {app}-cache
  template:
    metadata:
      labels:
        app.kubernetes.io/name: {app}-cache
    spec:
      containers:
        - name: redis
          image: redis:7.2.5-alpine
          args: ["--appendonly", "yes"]
          ports:
            - name: redis
              containerPort: 6379
          resources:
            requests: {{cpu: 100m, memory: 256Mi}}
            limits: {{cpu: 500m, memory: 256Mi}}
          volumeMounts:
            - name: data
              mountPath: /data
  volumeClaimTemplates:
    - metadata:
        name: data
      spec:
        accessModes: [ReadWriteOnce]
        storageClassName: standard
        resources:
          requests:
            storage: 8Gi
"""

CRONJOB = """\
apiVersion: batch/v1
kind: CronJob
metadata:
  name: {app}-cleanup
  namespace: {ns}
spec:
  schedule: "*/15 * * * *"
  concurrencyPolicy: Forbid
  successfulJobsHistoryLimit: 3
  jobTemplate:
    spec:
      backoffLimit: 2
      template:
        spec:
          restartPolicy: OnFailure
          containers:
            - name: cleanup
              image: registry.example.com/{team}/{app}-tools:{version}
              command: ["/bin/cleanup", "--older-than=24h"]
              resources:
                requests: {{cpu: 50m, memory: 64Mi}}
                limits: {{cpu: 200m, memory: 64Mi}}
"""

NAMESPACE = """\
apiVersion: v1
kind: Namespace
metadata:
  name: {ns}
  labels:
    team: {team}
"""


def app_file(index: int) -> str:
    """One app's manifests: 10 to 15 documents, depending on what the app has."""
    team = f"team-{index // 8:03d}"
    values = {
        "app": f"svc-{index:05d}",
        "team": team,
        "ns": team,
        "version": f"2.{index % 17}.{index % 5}",
        "revision": index % 40 + 1,
        "replicas": 2 + index % 3,
        "max_replicas": 6 + index % 5,
        "cpu": 100 + 50 * (index % 6),
        "cpu_limit": 1 + index % 2,
        "memory": 256 * (1 + index % 4),
        # hand-written files say 0644 (octal, as kubectl reads it); exported ones say 420
        "mode": "0644" if index % 3 == 0 else "420",
    }
    parts = [DEPLOYMENT, SERVICE, CONFIGMAP, SECRET, SERVICE_ACCOUNT, HPA, PDB, NETWORK_POLICY]
    parts.append(ROLE)
    if index % 8 == 0:
        parts.insert(0, NAMESPACE)
    if index % 2 == 0:
        parts.append(INGRESS)
    if index % 4 == 1:
        parts.append(STATEFULSET)
    if index % 5 == 2:
        parts.append(CRONJOB)
    return APP_HEAD.format(**values) + "---\n".join(p.format(**values) for p in parts)


def write_tree(root: Path, documents: int) -> tuple[int, int]:
    """Write app files under root/<team>/ until `documents` documents: (files, documents)."""
    total = files = 0
    index = 0
    while total < documents:
        text = app_file(index)
        folder = root / f"team-{index // 8:03d}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"svc-{index:05d}.yaml").write_text(text, encoding="utf-8")
        total += text.count("\n---\n") + 1
        files += 1
        index += 1
    return files, total
