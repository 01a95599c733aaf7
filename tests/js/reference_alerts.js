const ws = new WebSocket('ws://localhost:8001/ws/alerts/my-ai-service');

ws.onmessage = function(event) {
    const alert = JSON.parse(event.data);
    /*
    {
        "alert_id": "alert-123",
        "tenant_id": "my-ai-service",
        "severity": "warning",
        "type": "resource_usage",
        "message": "CPU 사용률이 80%를 초과했습니다",
        "metric": "cpu",
        "current_value": 85.2,
        "threshold": 80.0,
        "timestamp": "2024-01-20T14:30:00Z"
    }
    */
};
